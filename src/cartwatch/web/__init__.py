"""Django web application (only this package imports Django)."""
