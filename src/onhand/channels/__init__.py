"""Channels: Shopify stores and partner stores kept in step with onhand."""
