from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_presence')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='EventRecord',
            index=Index(fields=['name', 'webinar_id']),
        ),
        ops.AddField(
            model_name='Webinar',
            name='reminder_offsets',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
