-- Host and path-prefix routing for every request of the http instance (rewrite phase):
-- finds the rule, labels the request for the access log, answers 404 (no route), 308 (to
-- HTTPS) or 503 (no ready replica) itself, and leaves the peers for the balancer.
local state = require "wharf.state"

local M = {}

local function escape(s)
  return (s:gsub("[<>&\"']", function(c)
    return string.format("&#%d;", c:byte())
  end))
end

local function page(status, title, text)
  ngx.status = status
  ngx.header["Content-Type"] = "text/html; charset=utf-8"
  ngx.header["Cache-Control"] = "no-store"
  ngx.say("<!doctype html><html><head><title>", title, "</title></head><body><h1>", title, "</h1><p>", text, "</p></body></html>")
  return ngx.exit(status)
end

local function rules_for(hosts, host)
  local rules = hosts[host]
  if rules then
    return rules
  end
  local dot = host:find(".", 1, true)
  if dot then
    return hosts["*" .. host:sub(dot)]
  end
end

-- Rules are sorted longest prefix first; a prefix matches at a "/" boundary.
local function match(rules, uri)
  for i = 1, #rules do
    local rule = rules[i]
    local p = rule.prefix
    if p == "/" or uri == p or (uri:sub(1, #p) == p and uri:byte(#p + 1) == 47) then
      return rule
    end
  end
end

function M.route()
  local s = state.current()
  local host = ngx.var.host or ""
  local uri = ngx.var.uri or "/"
  local rules = rules_for(s.hosts, host)
  local rule = rules and match(rules, uri)
  if not rule then
    return page(404, "404 No route", "No route for " .. escape(host .. uri) .. " on this gateway.")
  end
  local upstream = s.upstreams[rule.upstream]
  if not upstream then
    return page(404, "404 No route", "No route for " .. escape(host .. uri) .. " on this gateway.")
  end
  ngx.var.wharf_tenant = upstream.tenant
  ngx.var.wharf_app = upstream.app
  ngx.var.wharf_component = upstream.component
  if rule.redirect and ngx.var.scheme == "http" then
    local port = tonumber(s.https_port) or 443
    local authority = port == 443 and host or (host .. ":" .. port)
    return ngx.redirect("https://" .. authority .. ngx.var.request_uri, 308)
  end
  local peers = upstream.peers
  if #peers == 0 then
    return page(503, "503 No ready replica", "Component " .. escape(upstream.component) .. " of app " .. escape(upstream.app)
      .. " has no ready replica right now.")
  end
  ngx.ctx.wharf_peers = peers
  ngx.ctx.wharf_key = rule.upstream
end

return M
