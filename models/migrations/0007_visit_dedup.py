from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0006_touch_contact')]

    initial = False

    operations = [
        ops.AddField(
            model_name='RefVisit',
            name='period',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='RefVisit',
            name='visitor',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddConstraint(
            model_name='RefVisit',
            constraint=UniqueConstraint(fields=('code', 'visitor', 'period'), name=None),
        ),
    ]
