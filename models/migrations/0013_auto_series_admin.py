from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0012_retention')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AutoSeries',
            name='deleted_at',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='AutoSeries',
            name='replay_chat_from',
            field=fields.ForeignKeyField('models.Webinar', source_field='replay_chat_from_id', null=True, db_constraint=True, to_field='id', related_name='replayed_by', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='ChatMessage',
            name='replay_of',
            field=fields.ForeignKeyField('models.ChatMessage', source_field='replay_of_id', null=True, db_constraint=True, to_field='id', related_name='replays', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddConstraint(
            model_name='ChatMessage',
            constraint=UniqueConstraint(fields=('webinar', 'replay_of'), name=None),
        ),
    ]
