"""The HTTP API agents talk to: enrollment, reports, policy, commands, and its OpenAPI document."""
