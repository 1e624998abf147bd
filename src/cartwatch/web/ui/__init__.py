"""The HTML pages of the centre web app: thin views over access.py and the services."""
