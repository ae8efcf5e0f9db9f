"""The HTTP API: routes build commands or call queries; nothing else happens in a route."""
