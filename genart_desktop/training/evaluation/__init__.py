"""Quality measurement of exported models (prompt adherence, diversity, memorisation) for their cards."""
