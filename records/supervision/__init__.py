"""The supervision bureau's views (督查督办): statistics, their HTTP handlers,
CSV export and OpenAPI."""
