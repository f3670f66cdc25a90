"""Who is told what (the outbox), sending it, and users' subscriptions."""
