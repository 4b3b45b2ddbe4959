"""SMS through Twilio, one module a job:

- webhook.py    the input channel, `channels.sms.webhook.TwilioSmsInput` in credentials.yml:
                Twilio's signed webhook, handled once a MessageSid; keywords (STOP, START,
                YES, HELP); the reply in the webhook's TwiML
- assistant.py  the assistant's turn for a text message, as SMS bodies: under the
                conversation's lock, a few at a time, its claim kept; menus, introduction
- recovery.py   messages a stopped replica left unanswered; replies later than the reply
                budget, sent (and retried) through Twilio's API
- send.py       texts to a conversation's number, never an opted-out one: staff messages and
                their command line, `python -m channels.sms send CONVERSATION_ID "text"`
- client.py     Twilio's REST API for messages
- text.py       the SMS layout: GSM-7, segments, sentence splitting, numbered options

The SMS records (numbers, opt-outs, claimed messages, menus) are tables of the clinic's
database, in clinic/sms.py.
"""
