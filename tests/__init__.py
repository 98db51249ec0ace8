"""The test suite: real aiogram and aiohttp against the fake Bot API and a real database; imports anything."""
