"""Retraining from the console: start it, follow it, deploy or roll back its model (`routes`, over retraining/)."""
