-- Picks a ready replica for the request (round robin per worker and upstream). On a failed
-- connection nginx calls it again (proxy_next_upstream) and it takes the next replica, so a
-- replica stopped between the table update and the request costs a retry, not an error.
local balancer = require "ngx.balancer"

local M = {}
local turn = {}

function M.balance()
  local ctx = ngx.ctx
  local peers = ctx.wharf_peers
  if not peers then
    return ngx.exit(500)
  end
  local n = #peers
  local tried = ctx.wharf_tried
  if not tried then
    tried = 0
    local start = (turn[ctx.wharf_key] or 0) % n + 1
    turn[ctx.wharf_key] = start
    ctx.wharf_start = start
    if n > 1 then
      balancer.set_more_tries(n - 1)
    end
  end
  ctx.wharf_tried = tried + 1
  local peer = peers[(ctx.wharf_start + tried - 1) % n + 1]
  local ok, err = balancer.set_current_peer(peer[1], peer[2])
  if not ok then
    ngx.log(ngx.ERR, "wharf: cannot use peer ", peer[1], ":", peer[2], ": ", err)
    return ngx.exit(502)
  end
end

return M
