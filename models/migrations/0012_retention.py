from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index



async def fill_event_user_ids(apps, schema_editor):
    """Existing events about a user get `user_id` from their payload (JSON)."""
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        sql = ("UPDATE event_log SET user_id = CAST(json_extract(payload, '$.user_id') AS INTEGER) "
               "WHERE json_extract(payload, '$.user_id') IS NOT NULL")
    else:
        sql = ("UPDATE event_log SET user_id = (payload::jsonb ->> 'user_id')::bigint "
               "WHERE payload::jsonb ? 'user_id' AND jsonb_typeof(payload::jsonb -> 'user_id') = 'number'")
    await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0011_auto_webinars')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='EventDelivery',
            index=Index(fields=['done_at']),
        ),
        ops.AddField(
            model_name='EventRecord',
            name='user_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddIndex(
            model_name='EventRecord',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='EventRecord',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='LeadTouch',
            index=Index(fields=['at']),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='broadcast_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['broadcast_id', 'status']),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='RefVisit',
            index=Index(fields=['at']),
        ),
        ops.RunPython(fill_event_user_ids),
    ]
