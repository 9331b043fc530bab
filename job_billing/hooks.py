from odoo.tools import sql


def pre_init_hook(env):
    """Create ``account_move_line.job_id`` and its index before the module's
    fields are set up. Odoo then finds the column there and computes nothing
    for the journal items that exist already (none of their moves has a job:
    NULL is their value), instead of rewriting every row of the table to
    fill the stored related field at install."""
    cr = env.cr
    if not sql.column_exists(cr, "account_move_line", "job_id"):
        sql.create_column(cr, "account_move_line", "job_id", "int4", "Job")
    # the index Odoo names and makes for index="btree_not_null"
    sql.create_index(
        cr,
        sql.make_index_name("account_move_line", "job_id"),
        "account_move_line",
        ['"job_id"'],
        where='"job_id" IS NOT NULL',
    )
