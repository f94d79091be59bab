"""Python callables the client pipelines name by dotted path (client_tasks.<name>)."""


def list_invoices(client):
    # in real life: list the files a client dropped today
    return [f"{client}/invoice-{n}.csv" for n in (1, 2, 3)]


def invoice_total(path):
    # in real life: read the file; here the total is derived from its name
    return int(path.rsplit("-", 1)[1].split(".")[0]) * 100


def report(totals):
    return {"invoices": len(totals), "amount": sum(totals)}


def check_rows(table, minimum):
    return f"{table}: at least {minimum} rows"
