"""The demo: the Kota Bogor 2020 scenario, generated, and `salur demo`, which builds it into a database."""
