"""预警信息发布 (alerts): persistence only."""
