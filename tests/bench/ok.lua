-- wrk script: the same POST for the transport ceiling (an "ok" responder).
wrk.method = "POST"
wrk.body = string.rep("x", 2048)
wrk.headers["Content-Type"] = "application/json"
