"""One module per resource; ``api.app`` includes them all."""
