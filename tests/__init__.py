"""The test suite: aiogram and aiohttp against a fake Bot API and a real database; imports all."""
