"""E-mails about registrations: `messages.py` renders them (defaults, the organizers' texts),
`outbox.py` queues them with the change and sends them with retries, `reminders.py` queues the
day-before reminders. New kinds (a waitlist offer, its expiry) are a `Notification.Kind`, a
default text and a branch in the e-mail templates."""
