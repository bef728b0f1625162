"""The history writer's adapters: PostgreSQL (SQLAlchemy 2 Core) and Kafka (aiokafka)."""
