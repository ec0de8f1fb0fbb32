"""A small inventory: items, stock moves and a report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Item:
    sku: str
    name: str
    price: float
    quantity: int = 0
    tags: list[str] = field(default_factory=list)

    def value(self) -> float:
        return self.price * self.quantity

    def restock(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.quantity += amount

    def sell(self, amount: int) -> float:
        if amount > self.quantity:
            raise ValueError(f"only {self.quantity} of {self.sku} left")
        self.quantity -= amount
        return amount * self.price


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            raise KeyError(f"duplicate sku {item.sku}")
        self.items[item.sku] = item

    def get(self, sku: str) -> Item:
        return self.items[sku]

    def total_value(self) -> float:
        return sum(item.value() for item in self.items.values())

    def low_stock(self, threshold: int = 5) -> list[Item]:
        return [item for item in self.items.values() if item.quantity < threshold]

    def by_tag(self, tag: str) -> list[Item]:
        return sorted((i for i in self.items.values() if tag in i.tags), key=lambda i: i.name)

    def save(self, path: Path) -> None:
        data = [item.__dict__ for item in self.items.values()]
        path.write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, path: Path) -> Inventory:
        inventory = cls()
        for entry in json.loads(path.read_text()):
            inventory.add(Item(**entry))
        return inventory


def report(inventory: Inventory) -> str:
    lines = [f"{len(inventory.items)} items, worth {inventory.total_value():.2f}"]
    for item in inventory.low_stock():
        lines.append(f"low: {item.sku} ({item.quantity} left)")
    return "\n".join(lines)
