-- wrk script: GET /v1/status with a bearer token (status calls while the source streams).
local token = os.getenv("TOKEN") or "bench"
request = function()
  return wrk.format("GET", "/v1/status", { ["Authorization"] = "Bearer " .. token })
end
