"""Demo data: realistic Ukrainian customers and orders for trying the product and for load tests.

- ``load_demo_data`` (``crm demo-data``): fast bulk accounts and orders for any organization;
- ``seed_demo`` (``crm serve --demo``): the ``demo`` organization with one user per role.
"""

from server.demo.bulk import LoadResult, load_demo_data
from server.demo.seed import DEMO_PASSWORD, DEMO_SLUG, DemoResult, demo_logins, seed_demo

__all__ = ["DEMO_PASSWORD", "DEMO_SLUG", "DemoResult", "LoadResult", "demo_logins", "load_demo_data", "seed_demo"]
