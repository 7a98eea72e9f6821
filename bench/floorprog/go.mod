module cachegate.example/floorprog

go 1.24
