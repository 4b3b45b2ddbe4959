"""The assistant's own input channels: the website chat widget and SMS through Twilio."""
