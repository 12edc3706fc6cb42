"""Items, bundles and locations."""
