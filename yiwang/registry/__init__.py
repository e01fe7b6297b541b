"""The grid base database (人·房·企·事·物): buildings, houses, residents, households, organisations,
key sites and key-group tags, with personal data encrypted, masked and audit-logged."""
