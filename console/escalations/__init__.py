"""The escalation queue, the console's first screen: open and acknowledged escalations, one
escalation's page, the resolved ones, acknowledge and resolve (`routes`). The escalations
themselves are `clinic.escalations`'."""
