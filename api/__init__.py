"""HTTP API (import name ``salur_cases.api``): the Litestar app, schemas, auth and routes."""
