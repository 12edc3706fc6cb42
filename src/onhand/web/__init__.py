"""The admin dashboard and the storefront stock badge: static files served by `routes`."""
