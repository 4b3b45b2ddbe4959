"""`python -m channels.sms send CONVERSATION_ID "text"`: a staff message by SMS
(channels/sms/send.py)."""

import sys

from channels.sms.send import main

if __name__ == "__main__":
    sys.exit(main())
