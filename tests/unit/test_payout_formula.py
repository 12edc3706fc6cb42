"""The payout formula of docs/fulfilment.md, worked through with the issue's brackets."""

from decimal import Decimal

from onhand.fulfilment.payouts import day_pay

CONFIG = {
    "brackets": [
        {"up_to": 200, "rate": "0.10"},
        {"up_to": 400, "rate": "0.12"},
        {"up_to": None, "rate": "0.15"},
    ],
    "max_error_rate": "0.01",
}


def test_lines_are_paid_at_the_rate_of_the_bracket_they_fall_in():
    assert day_pay(200, 0, 200, CONFIG)["amount"] == "20.00"
    pay = day_pay(450, 0, 450, CONFIG)
    assert Decimal(pay["amount"]) == Decimal("51.50") and pay["bracket"] == 3


def test_missing_the_accuracy_rule_pays_every_line_at_the_first_rate():
    pay = day_pay(450, 5, 450, CONFIG)  # 1.1% errors
    assert pay["amount"] == "45.00" and not pay["accurate"]
    assert day_pay(450, 4, 450, CONFIG)["amount"] == "51.50"  # 0.9%


def test_no_lines_earn_nothing():
    assert day_pay(0, 0, 0, CONFIG)["amount"] == "0" and day_pay(0, 0, 0, CONFIG)["bracket"] is None
