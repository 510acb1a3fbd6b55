/* schema.sql, compiled in as the NUL-terminated string sc_schema_sql. */
	.section .rodata
	.global sc_schema_sql
	.type sc_schema_sql, @object
	.balign 16
sc_schema_sql:
	.incbin "schema.sql"
	.byte 0
	.size sc_schema_sql, . - sc_schema_sql

/* schema_pg.sql: sc_schema_pg_sql. */
	.global sc_schema_pg_sql
	.type sc_schema_pg_sql, @object
	.balign 16
sc_schema_pg_sql:
	.incbin "schema_pg.sql"
	.byte 0
	.size sc_schema_pg_sql, . - sc_schema_pg_sql
	.section .note.GNU-stack, "", @progbits
