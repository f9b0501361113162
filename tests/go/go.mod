module runledger.example/cgo

go 1.19
