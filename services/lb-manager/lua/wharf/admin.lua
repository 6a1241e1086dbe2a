-- The admin socket's /wharf/state: GET answers the version held, PUT replaces the whole
-- routing table (400 with the reason, and nothing changed, when it is not one).
local state = require "wharf.state"

local M = {}

function M.state()
  local method = ngx.req.get_method()
  if method == "GET" then
    ngx.say(state.version())
    return
  end
  if method ~= "PUT" then
    ngx.status = 405
    ngx.say("GET or PUT")
    return
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    local file = ngx.req.get_body_file()
    if file then
      local f = io.open(file, "rb")
      if f then
        body = f:read("*a")
        f:close()
      end
    end
  end
  if not body or #body == 0 then
    ngx.status = 400
    ngx.say("empty body")
    return
  end
  local version, err = state.replace(body)
  if not version then
    ngx.status = 400
    ngx.say(err)
    return
  end
  ngx.say(version)
end

return M
