"""Consultation and call-back requests left through the assistant's contact form, as staff work
through them: the list, a request's page and its status (`routes`, over `queries`)."""
