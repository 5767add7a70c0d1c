"""Loading and running the ML models: the shared sentence encoder, the heads on its
embeddings, and the scripts that train them. Imports none of Escalator's other packages."""
