"""The landing-zone columns the generator writes (from the landing contract,
``lakehouse_assets.landing``) and the static vocabularies it draws from."""

from __future__ import annotations

from lakehouse_assets.landing import DATASETS as LANDING_DATASETS

DATASETS = tuple(LANDING_DATASETS)

# Column order used when writing; the contract allows any order, so this is just a stable choice.
REQUIRED_COLUMNS = {name: spec.required for name, spec in LANDING_DATASETS.items()}
OPTIONAL_COLUMNS = {name: spec.optional for name, spec in LANDING_DATASETS.items()}


def columns(dataset: str) -> tuple[str, ...]:
    return LANDING_DATASETS[dataset].columns


PAYMENT_METHODS = ("credit_card", "debit_card", "paypal", "bank_transfer")
PAYMENT_STATUSES = ("paid", "refunded", "pending")
ORDER_STATUSES = ("pending", "processing", "completed", "cancelled", "returned")

# department -> categories -> (median list price in USD, product nouns). Department groups categories.
TAXONOMY = {
    "Electronics": {
        "Audio": (45.0, ("Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar")),
        "Computer Accessories": (25.0, ("Wireless Mouse", "Keyboard", "USB-C Hub", "Mouse Pad", "Webcam")),
    },
    "Home & Kitchen": {
        "Kitchen": (22.0, ("Ceramic Mug", "French Press", "Chef Knife", "Cutting Board", "Coffee Grinder")),
        "Home Decor": (18.0, ("T-Light Holder", "Photo Frame 8\" x 10\"", "Cushion Cover", "Wall Clock", "Vase")),
        "Bedding": (35.0, ("Duvet Cover", "Pillow", "Throw Blanket")),
    },
    "Fashion": {
        "Apparel": (28.0, ("T-Shirt", "Hoodie", "Rain Jacket", "Socks, 3-Pack")),
        "Bags": (40.0, ("Backpack", "Tote Bag", "Wallet")),
    },
    "Sports & Outdoors": {
        "Fitness": (26.0, ("Yoga Mat", "Yoga Block", "Resistance Bands", "Dumbbell Set")),
        "Camping": (55.0, ("Tent", "Sleeping Bag", "Camping Lantern")),
    },
    "Books & Stationery": {
        "Books": (14.0, ("Cookbook", "Travel Guide", "Novel", "Notebook")),
        "Stationery": (8.0, ("Gel Pens", "Planner", "Sticky Notes")),
    },
}
ADJECTIVES = ("Classic", "Premium", "Compact", "Eco", "Vintage", "Deluxe", "Essential", "Pro", "Mini", "Large, Round")

# country -> (share of customers, sales-tax rate, phone prefix, cities)
COUNTRIES = {
    "US": (0.45, 0.07, "+1", ("New York", "Los Angeles", "Chicago", "Houston", "Seattle")),
    "UK": (0.15, 0.20, "+44", ("London", "Manchester", "Leeds")),
    "CA": (0.10, 0.13, "+1", ("Toronto", "Vancouver", "Montreal")),
    "DE": (0.10, 0.19, "+49", ("Berlin", "Munich", "Hamburg")),
    "FR": (0.08, 0.20, "+33", ("Paris", "Lyon")),
    "AU": (0.07, 0.10, "+61", ("Sydney", "Melbourne")),
    "NL": (0.05, 0.21, "+31", ("Amsterdam", "Rotterdam")),
}
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Oliver", "Emma", "Noah", "Sophie", "Lukas", "Mia", "Lucas", "Chloe", "Liam", "Olivia", "Ethan", "Ava",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Muller", "Schmidt", "Martin", "Bernard", "Dubois", "Jansen", "de Vries", "O'Brien", "Nguyen", "Patel",
)
EMAIL_DOMAINS = ("email.com", "mail.com", "example.org", "inbox.net", "post.de")
