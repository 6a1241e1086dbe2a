-- The routing table lb-manager pushes (render-routing-table.ts), kept in the shared dict
-- wharf_state so every worker sees the same one. Each worker decodes it once per version:
-- a request costs one dict:get of the version string.
local cjson = require "cjson.safe"

local dict = ngx.shared.wharf_state
local EMPTY = { hosts = {}, upstreams = {}, certificates = {}, https_port = 443 }

local M = {}
local cached_version = false
local cached = EMPTY

function M.current()
  local version = dict:get("version")
  if version ~= cached_version then
    local text = dict:get("state")
    local decoded = text and cjson.decode(text)
    cached = decoded or EMPTY
    cached_version = version
  end
  return cached
end

function M.version()
  return dict:get("version") or ""
end

-- Replaces the whole table, or changes nothing and says why.
function M.replace(text)
  local decoded, err = cjson.decode(text)
  if not decoded then
    return nil, "not JSON: " .. tostring(err)
  end
  if type(decoded) ~= "table" or type(decoded.version) ~= "string" or type(decoded.hosts) ~= "table"
      or type(decoded.upstreams) ~= "table" or type(decoded.certificates) ~= "table" then
    return nil, "expected {version, https_port, hosts, upstreams, certificates}"
  end
  -- The text first, then its version: a worker that sees the new version reads the new text.
  local ok, serr = dict:set("state", text)
  if not ok then
    return nil, "cannot store the table: " .. tostring(serr)
  end
  dict:set("version", decoded.version)
  return decoded.version
end

return M
