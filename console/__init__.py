"""The pages people use (the operator's desk, the member unit, the supervisor's
wall…), served by the server itself over its own API and live feed."""
