"""The projector: the process that reads the events Rasa publishes (its event broker: the SQL
broker's database, or RabbitMQ when scaled out) and projects them into the conversation index
the staff console reads (`console_conversations`, `console_turns`, in the clinic database).
It only writes the index; the console only reads it.

    index.py      the index's tables and the projection: apply events, catch up, rebuild, follow
    rabbitmq.py   the feed from RabbitMQ (Rasa's Pika broker)
    commands.py   what its command lines run, and the feed `python -m console run` starts
    __main__.py   python -m projector rebuild|catch-up|follow

It runs in a thread of the console (`python -m console run`, unless `--no-index`), or as a
process of its own (`python -m projector follow`, also `python -m console index follow`).
docs/console.md, "Where the conversations come from".
"""
