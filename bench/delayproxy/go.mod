module cachegate.example/delayproxy

go 1.24
