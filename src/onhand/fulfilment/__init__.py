"""After the sale: consumption events, dispatch availability, backorders, picking, payouts."""
