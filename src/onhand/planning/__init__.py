"""Replenishment planning: demand forecasts, safety stock, reorder points, order suggestions."""
