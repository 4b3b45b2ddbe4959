"""Custom actions run by the Rasa action server (`rasa run actions`).

The action server imports every module here, so nothing in this package imports the full
`rasa` package; shared logic lives in the `clinic` package.
"""
