"""The four escalation detectors, their vocabulary, thresholds and the policy that combines them.
No web, no database: pure functions over analyses of the conversation so far."""
