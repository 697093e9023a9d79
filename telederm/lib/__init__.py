"""Helpers without domain knowledge: environment, identifiers, mail, SMS, HTTP."""
