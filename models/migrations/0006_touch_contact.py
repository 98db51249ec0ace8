from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_crm_reviews_admin')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LeadTouch',
            name='claimed_at',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='claimed_by',
            field=fields.ForeignKeyField('models.User', source_field='claimed_by_id', null=True, db_constraint=True, to_field='id', related_name='claimed_touches', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='email',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='locale',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='matched_by',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='name',
            field=fields.CharField(default='', max_length=200),
        ),
        ops.AddField(
            model_name='LeadTouch',
            name='phone',
            field=fields.CharField(null=True, max_length=20),
        ),
        # Touches stored before this migration matched their lead unless they were its
        # first: they must be proven before their links bind, like every later one.
        ops.RunSQL(
            "UPDATE lead_touch SET matched_by = 'unknown' WHERE id NOT IN "
            "(SELECT MIN(id) FROM lead_touch GROUP BY lead_id)",
            reverse_sql="UPDATE lead_touch SET matched_by = NULL",
        ),
    ]
