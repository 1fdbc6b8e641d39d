-- wrk script: GET /v1/tables/public.users/rows/<random id> with a bearer token, over
-- keep-alive connections. ROWS and TOKEN come from the environment.
local rows = tonumber(os.getenv("ROWS") or "100000")
local token = os.getenv("TOKEN") or "bench"
math.randomseed(42)
request = function()
  local id = math.random(1, rows)
  return wrk.format("GET", "/v1/tables/public.users/rows/" .. id,
                    { ["Authorization"] = "Bearer " .. token })
end
