"""The web plumbing every feature's handlers share: errors, authentication and
roles, tokens, JSON in and out, query parameters, the live bus and its
WebSocket, the OpenAPI document."""
