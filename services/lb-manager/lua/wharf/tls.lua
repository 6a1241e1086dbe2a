-- The certificate for the TLS handshake's server name: the host's own from the routing table
-- (exact, then "*." wildcard), else nginx's default (the data center's self-signed one).
-- Parsed once per table version and host (the cache is keyed by the decoded entry).
local ssl = require "ngx.ssl"
local state = require "wharf.state"

local M = {}
local parsed = setmetatable({}, { __mode = "k" })

function M.select()
  local name = ssl.server_name()
  if not name then
    return
  end
  name = name:lower()
  local certificates = state.current().certificates
  local entry = certificates[name]
  if not entry then
    local dot = name:find(".", 1, true)
    entry = dot and certificates["*" .. name:sub(dot)]
  end
  if not entry then
    return
  end
  local pair = parsed[entry]
  if not pair then
    local cert, cerr = ssl.parse_pem_cert(entry.cert)
    local key, kerr = ssl.parse_pem_priv_key(entry.key)
    if not cert or not key then
      ngx.log(ngx.ERR, "wharf: certificate for ", name, " does not load: ", cerr or kerr)
      return
    end
    pair = { cert, key }
    parsed[entry] = pair
  end
  local ok, err = ssl.clear_certs()
  if ok then ok, err = ssl.set_cert(pair[1]) end
  if ok then ok, err = ssl.set_priv_key(pair[2]) end
  if not ok then
    ngx.log(ngx.ERR, "wharf: cannot serve the certificate for ", name, ": ", err)
    return ngx.exit(ngx.ERROR)
  end
end

return M
